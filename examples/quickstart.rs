//! The quickstart: list services and deployments, deploy an app, follow its
//! build log and read the instance's health.
//!
//! With `DPLOYR_URL` (and `DPLOYR_TOKEN`) set it talks to that instance.
//! Without them it starts a stand-in instance on 127.0.0.1 in this process,
//! so it runs anywhere:
//!
//! ```text
//! cargo run --example quickstart
//! DPLOYR_URL=https://instance.example.com DPLOYR_TOKEN=... cargo run --example quickstart
//! ```

use futures::StreamExt;

use dployr::types::{DeployRequest, KnownRuntime, KnownSource, RuntimeObj};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Kept alive until the end of main: dropping it stops the stand-in.
    let mut _stand_in = None;
    let client = if std::env::var_os("DPLOYR_URL").is_some() {
        dployr::Client::from_env()?
    } else {
        let instance = stand_in::start().await;
        println!(
            "No DPLOYR_URL set: using a stand-in instance at {}\n",
            instance.base_url()
        );
        let (client, tokens) = dployr::create_dployr_client(&instance.base_url())?;
        tokens.set_tokens(stand_in::ACCESS_TOKEN, "stand-in-refresh-token");
        _stand_in = Some(instance);
        client
    };

    let services = client.list_services().limit(20).send().await?;
    println!("Services ({} in all):", services.total);
    for service in &services.services {
        let status = service.status.as_deref().unwrap_or("unknown");
        let runtime = service
            .runtime
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        println!(
            "  {:<14} {:<8} {:<8} {}",
            service.name, status, runtime, service.id
        );
    }

    let deployments = client.list_deployments().limit(5).send().await?;
    println!("\nLatest deployments ({} in all):", deployments.total);
    for d in &deployments.deployments {
        let name = d.config.name.as_deref().unwrap_or("?");
        println!(
            "  {:<14} {:<12} {}",
            name,
            d.status.to_string(),
            d.created_at.to_rfc3339()
        );
    }

    let request = DeployRequest::builder()
        .name("hello-web")
        .user_id("user-123")
        .source(KnownSource::Remote)
        .runtime(RuntimeObj {
            type_: KnownRuntime::Nodejs.into(),
            version: Some("20.11.0".into()),
        })
        .remote(Some(dployr::types::RemoteObj {
            url: "https://github.com/example/hello-web.git".into(),
            branch: Some("main".into()),
            commit_hash: None,
        }))
        .port(Some(3000))
        .run_cmd(Some("npm start".to_string()));
    let created = client.create_deployment().body(request).send().await?;
    println!(
        "\nDeployed {} as {} at {}",
        created.name, created.id, created.created_at
    );

    println!("Build log:");
    let mut logs = client.stream_logs(&created.id).await?;
    while let Some(event) = logs.next().await {
        match event? {
            dployr::LogEvent::Line(line) => println!("  | {line}"),
            dployr::LogEvent::Done(message) => println!("  = {message}"),
            other => println!("  ? {other:?}"),
        }
    }

    let status = client.get_system_status().send().await?;
    println!(
        "\nInstance is {} (up {}): {}/{} services running, proxy {} with {} routes",
        status.status,
        status.uptime,
        status.services.running,
        status.services.total,
        status.proxy.status,
        status.proxy.routes
    );
    Ok(())
}

/// A stand-in instance serving realistic answers, for running without one.
mod stand_in {
    use httpmock::prelude::*;
    use serde_json::json;

    pub const ACCESS_TOKEN: &str = "stand-in-access-token";
    const DEPLOYMENT_ID: &str = "01HN2K3M4N5P6Q7R8S9T0U1V2W";

    pub async fn start() -> MockServer {
        let server = MockServer::start_async().await;
        let bearer = format!("Bearer {ACCESS_TOKEN}");
        server
            .mock_async(|when, then| {
                when.method(GET).path("/services").header("authorization", &bearer);
                then.status(200).json_body(json!({
                    "services": [
                        {"id": "01HQ0SVC1A2B3C4D5E6F7G8H9J", "name": "api", "status": "running",
                         "runtime": "golang", "runtime_version": "1.22", "port": 8080,
                         "created_at": "2024-03-01T09:00:00Z", "updated_at": "2024-03-04T17:20:00Z"},
                        {"id": "01HQ0SVC2K3L4M5N6P7Q8R9S0T", "name": "web", "status": "running",
                         "runtime": "nodejs", "runtime_version": "20.11.0", "port": 3000,
                         "created_at": "2024-03-01T09:05:00Z", "updated_at": "2024-03-05T08:10:00Z"},
                        {"id": "01HQ0SVC3U4V5W6X7Y8Z9A0B1C", "name": "docs", "status": "stopped",
                         "runtime": "static", "port": 80,
                         "created_at": "2024-02-11T12:00:00Z", "updated_at": "2024-02-12T12:00:00Z"}
                    ],
                    "total": 3
                }));
            })
            .await;
        server
            .mock_async(|when, then| {
                when.method(GET).path("/deployments").header("authorization", &bearer);
                then.status(200).json_body(json!({
                    "deployments": [
                        {"id": "01HQ0DEP1A2B3C4D5E6F7G8H9J", "user_id": "user-123",
                         "user_email": "dev@example.com", "status": "completed",
                         "config": {"name": "web", "source": "remote",
                                    "runtime": {"type": "nodejs", "version": "20.11.0"}},
                         "created_at": "2024-03-05T08:00:00Z", "updated_at": "2024-03-05T08:10:00Z"},
                        {"id": "01HQ0DEP2K3L4M5N6P7Q8R9S0T", "user_id": "user-123",
                         "status": "failed",
                         "config": {"name": "api", "source": "image", "image": "ghcr.io/example/api:1.4"},
                         "created_at": "2024-03-04T17:00:00Z", "updated_at": "2024-03-04T17:02:00Z"}
                    ],
                    "total": 2
                }));
            })
            .await;
        server
            .mock_async(|when, then| {
                when.method(POST)
                    .path("/deployments")
                    .header("authorization", &bearer)
                    .header("content-type", "application/json");
                then.status(201).json_body(json!({
                    "success": true, "id": DEPLOYMENT_ID, "name": "hello-web",
                    "created_at": "2024-03-06T10:00:00Z"
                }));
            })
            .await;
        server
            .mock_async(|when, then| {
                when.method(GET)
                    .path("/logs/stream")
                    .query_param("id", DEPLOYMENT_ID)
                    .query_param("token", ACCESS_TOKEN);
                then.status(200)
                    .header("content-type", "text/event-stream")
                    .body(concat!(
                        "id: 1\ndata: cloning https://github.com/example/hello-web.git (main)\n\n",
                        "id: 2\ndata: installing nodejs@20.11.0\n\n",
                        ": heartbeat\n\n",
                        "id: 3\ndata: npm ci: added 214 packages in 6s\n\n",
                        "id: 4\ndata: starting hello-web on port 3000\n\n",
                        "id: 5\nevent: done\ndata: stream completed\n\n",
                    ));
            })
            .await;
        server
            .mock_async(|when, then| {
                when.method(GET)
                    .path("/system/status")
                    .header("authorization", &bearer);
                then.status(200).json_body(json!({
                    "status": "healthy", "uptime": "72h30m15s",
                    "services": {"total": 4, "running": 3, "stopped": 1},
                    "proxy": {"status": "running", "routes": 3}
                }));
            })
            .await;
        server
    }
}
