//! A CI pipeline step: deploy what a JSON file describes, print the build log
//! as it is written, and exit with a code the pipeline can act on.
//!
//! ```text
//! cargo run -p dployr-examples --example deploy -- examples/deployment.json
//! DPLOYR_URL=https://instance.example.com DPLOYR_TOKEN=... cargo run -p dployr-examples --example deploy -- deployment.json
//! ```
//!
//! The file holds a `DeployRequest` as JSON, the shape of the API reference's
//! `POST /deployments` body, so it can live next to the app it deploys
//! (`examples/deployment.json` is one). The deployment goes to `DPLOYR_URL`
//! with `DPLOYR_TOKEN` (see `Client::from_env`), or, when `DPLOYR_URL` is
//! unset, to a `dployr::testing::LocalInstance` started in this process.
//!
//! | exit code | when |
//! |---|---|
//! | 0 | the deployment completed |
//! | 1 | it failed, or could not be followed to its end (the last log lines and the error are printed) |
//! | 2 | the file is unreadable or not a deploy request, or the client or the instance rejected a field (named), or the environment is unusable |
//!
//! `DPLOYR_EXAMPLE_FAIL=1` is read only when there is no `DPLOYR_URL`: it
//! tells the local instance to fail the deployment, to show exit code 1
//! without breaking a real build. It has no effect on a real instance.

use std::path::Path;
use std::process::ExitCode;

use futures::StreamExt;

use dployr::testing::LocalInstance;
use dployr::types::DeployRequest;
use dployr::{Client, Error, ErrorKind, Progress};

const COMPLETED: u8 = 0;
const FAILED: u8 = 1;
const BAD_INPUT: u8 = 2;

#[tokio::main]
async fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1) else {
        eprintln!("usage: cargo run -p dployr-examples --example deploy -- <deployment.json>");
        return ExitCode::from(BAD_INPUT);
    };
    let request = match read_request(Path::new(&path)) {
        Ok(request) => request,
        Err(why) => {
            eprintln!("error: {why}");
            return ExitCode::from(BAD_INPUT);
        }
    };
    // Kept alive until the end of main: dropping it stops the local instance.
    let mut _local = None;
    let client = if std::env::var_os("DPLOYR_URL").is_some() {
        match Client::from_env() {
            Ok(client) => client,
            Err(error) => return ExitCode::from(report(&error)),
        }
    } else {
        match local_client(&request).await {
            Ok((client, instance)) => {
                _local = Some(instance);
                client
            }
            Err(why) => {
                eprintln!("error: could not start a local instance: {why}");
                return ExitCode::from(FAILED);
            }
        }
    };
    ExitCode::from(deploy(&client, request).await)
}

fn read_request(path: &Path) -> Result<DeployRequest, String> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    // serde names a missing field, and the line and column of a wrong one.
    serde_json::from_slice(&bytes).map_err(|e| format!("{shown} is not a deploy request: {e}"))
}

async fn local_client(
    request: &DeployRequest,
) -> Result<(Client, LocalInstance), Box<dyn std::error::Error>> {
    let instance = LocalInstance::start().await?;
    println!(
        "No DPLOYR_URL set: deploying to a local instance at {}",
        instance.url()
    );
    let asked_to_fail =
        std::env::var("DPLOYR_EXAMPLE_FAIL").is_ok_and(|v| !v.is_empty() && v != "0");
    if asked_to_fail {
        instance.fail_deployments_named(request.name.as_str());
    }
    let client = Client::builder(instance.url())
        .access_token(instance.developer_token())
        .build()?;
    Ok((client, instance))
}

/// Deploys and follows the deployment; returns the exit code.
async fn deploy(client: &Client, request: DeployRequest) -> u8 {
    let run = match client.deploy(request).await {
        Ok(run) => run,
        Err(error) => return report(&error),
    };
    println!("deploying {} as {}", run.name(), run.id());
    let mut progress = run.progress();
    while let Some(step) = progress.next().await {
        // An error here is the outcome, which `finish` returns too.
        let Ok(step) = step else { break };
        match step {
            Progress::Log(line) => println!("  | {line}"),
            Progress::Status(status) => println!("  = {status}"),
            _ => {}
        }
    }
    match progress.finish().await {
        Ok(deployment) => {
            println!("deployment {} completed", deployment.id);
            COMPLETED
        }
        Err(error) => report(&error),
    }
}

/// Prints what went wrong; returns the exit code it calls for.
fn report(error: &Error) -> u8 {
    match error.kind() {
        ErrorKind::Validation => {
            eprintln!("error: the instance rejected the deploy request: {error}");
            for detail in error.details() {
                eprintln!("  rejected field {}: {}", detail.field, detail.message);
            }
            BAD_INPUT
        }
        ErrorKind::InvalidInput | ErrorKind::Config => {
            eprintln!("error: {error}");
            if let Some(field) = error.field() {
                eprintln!("  rejected field {field}");
            }
            BAD_INPUT
        }
        ErrorKind::DeploymentFailed => {
            if !error.log_tail().is_empty() {
                eprintln!("last log lines:");
                for line in error.log_tail() {
                    eprintln!("  | {line}");
                }
            }
            eprintln!("error: {error}");
            FAILED
        }
        _ => {
            eprintln!("error: {error}");
            FAILED
        }
    }
}
