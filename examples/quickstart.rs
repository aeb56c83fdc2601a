//! The quickstart: deploy an app and follow its build log live, roll out a
//! change waiting only for the outcome, list services and deployments and
//! read the instance's health.
//!
//! With `DPLOYR_URL` (and `DPLOYR_TOKEN`) set it talks to that instance.
//! Without them it starts a `dployr::testing::LocalInstance` on 127.0.0.1
//! in this process, so it runs anywhere:
//!
//! ```text
//! cargo run -p dployr-examples --example quickstart
//! DPLOYR_URL=https://instance.example.com DPLOYR_TOKEN=... cargo run -p dployr-examples --example quickstart
//! ```

use futures::StreamExt;

use dployr::testing::LocalInstance;
use dployr::types::{DeployRequest, KnownRuntime, KnownSource, RemoteObj, RuntimeObj};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Kept alive until the end of main: dropping it stops the local instance.
    let mut _local = None;
    let client = if std::env::var_os("DPLOYR_URL").is_some() {
        dployr::Client::from_env()?
    } else {
        let instance = LocalInstance::start().await?;
        println!(
            "No DPLOYR_URL set: using a local instance at {}\n",
            instance.url()
        );
        let (client, tokens) = dployr::create_dployr_client(&instance.url())?;
        tokens.set_access_token(instance.developer_token());
        _local = Some(instance);
        client
    };

    let request: DeployRequest = DeployRequest::builder()
        .name("hello-web")
        .user_id("user-123")
        .source(KnownSource::Remote)
        .runtime(RuntimeObj {
            type_: KnownRuntime::Nodejs.into(),
            version: Some("20.11.0".into()),
        })
        .remote(Some(RemoteObj {
            url: "https://github.com/example/hello-web.git".into(),
            branch: Some("main".into()),
            commit_hash: None,
        }))
        .port(Some(3000))
        .run_cmd(Some("npm start".to_string()))
        .try_into()?;

    // Deploy, then follow the deployment: its build log live, its status as
    // it changes, and the deployment itself once it has completed.
    let run = client.deploy(request.clone()).await?;
    println!(
        "Deploying {} as {} (created {})",
        run.name(),
        run.id(),
        run.created_at()
    );
    let mut progress = run.progress();
    while let Some(step) = progress.next().await {
        match step? {
            dployr::Progress::Log(line) => println!("  | {line}"),
            dployr::Progress::Status(status) => println!("  = {status}"),
            _ => {}
        }
    }
    let deployment = progress.finish().await?;
    println!("Deployment {} is {}", deployment.id, deployment.status);

    // A change rolled out by code that needs only the outcome: deploy and
    // wait. A deployment that does not complete is an error of its own kind,
    // carrying its last log lines.
    let update = DeployRequest {
        version: Some("v2".to_string()),
        ..request
    };
    match client.deploy(update).await?.wait().await {
        Ok(deployment) => println!("Update {} is {}", deployment.id, deployment.status),
        Err(e) if e.kind() == dployr::ErrorKind::DeploymentFailed => {
            eprintln!("Update failed: {e}");
            for line in e.log_tail() {
                eprintln!("  | {line}");
            }
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    }

    let services = client.list_services().limit(20).send().await?;
    println!("\nServices ({} in all):", services.total);
    for service in &services.services {
        let status = service.status.as_deref().unwrap_or("unknown");
        let runtime = service.runtime.as_ref().map(ToString::to_string);
        println!(
            "  {:<14} {:<8} {:<8} {}",
            service.name,
            status,
            runtime.unwrap_or_default(),
            service.id
        );
    }

    let deployments = client.list_deployments().limit(5).send().await?;
    println!("\nLatest deployments ({} in all):", deployments.total);
    for d in &deployments.deployments {
        let name = d.config.name.as_deref().unwrap_or("?");
        let status = d.status.to_string();
        println!("  {name:<14} {status:<12} {}", d.created_at.to_rfc3339());
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
