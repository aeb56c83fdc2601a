//! `dployrctl deploy`: create a deployment from a file and, with `--wait`,
//! follow it to its end with an exit code a pipeline can act on.

use std::time::Duration;

use clap::ArgMatches;
use dployr::types::DeployRequest;
use dployr::{Client, Progress};
use futures_util::StreamExt;
use serde_json::json;

use crate::body;
use crate::exit::{one_line, Failure};
use crate::output::{self, Format};
use crate::progress::Live;

/// Runs `dployrctl deploy`.
pub async fn run(client: &Client, matches: &ArgMatches, format: Format) -> Result<(), Failure> {
    let path = matches
        .get_one::<String>("file")
        .ok_or_else(|| Failure::Input("--file is required".into()))?;
    let request = read_request(path)?;
    let mut run = client.deploy(request).await?;
    if !matches.get_flag("wait") {
        let created = json!({
            "id": run.id(),
            "name": run.name(),
            "created_at": run.created_at().to_rfc3339(),
        });
        output::print(&created, format);
        return Ok(());
    }
    if let Some(secs) = matches.get_one::<u64>("timeout") {
        run = run.wait_timeout(Duration::from_secs(*secs));
    }
    // Progress goes to stderr, so stdout holds only the finished deployment.
    eprintln!("deploying {} as {}", one_line(run.name()), run.id());
    let created = run.created_at().timestamp_millis() as f64 / 1000.0;
    let since = Duration::from_secs_f64((crate::age::now() - created).max(0.0));
    let live = Live::start("pending", since);
    let mut progress = run.progress();
    while let Some(step) = progress.next().await {
        // An error here is the outcome, which `finish` returns too.
        let Ok(step) = step else { break };
        match step {
            Progress::Log(line) => {
                let line = one_line(&line);
                live.line(&format!("  | {line}"));
                live.step(&line);
            }
            Progress::Status(status) => {
                live.line(&format!("  = {status}"));
                live.phase(&status.to_string());
            }
            _ => {}
        }
    }
    drop(live);
    let deployment = progress.finish().await.map_err(Failure::Followed)?;
    let value = serde_json::to_value(&deployment)
        .map_err(|e| Failure::Input(format!("the deployment does not print as JSON: {e}")))?;
    output::print(&value, format);
    Ok(())
}

/// The deploy request in `path`, checked as `createDeployment` checks its
/// body, so a field that does not fit is named before anything is sent.
fn read_request(path: &str) -> Result<DeployRequest, Failure> {
    let value = body::read_json(path)?;
    let create = dployr::operations()
        .iter()
        .find(|op| op.body_type() == Some("DeployRequest"));
    if let Some(create) = create {
        let bytes = serde_json::to_vec(&value).map_err(|e| Failure::Input(e.to_string()))?;
        create.check_body(&bytes)?;
    }
    serde_json::from_value(value)
        .map_err(|e| Failure::Input(format!("{path} is not a deploy request: {e}")))
}
