//! `dployrctl logs`: a deployment's or service's log as plain lines.

use std::io::{self, Write};
use std::time::Duration;

use clap::ArgMatches;
use dployr::{Client, LogEvent, Reconnect};

use crate::connect;
use futures_util::StreamExt;

use crate::exit::Failure;

/// Without `--follow`, the log counts as read once nothing new arrives for
/// this long: an instance replays a log's past lines at once, so a pause
/// means the reader has caught up.
const QUIET: Duration = Duration::from_secs(1);

/// Runs `dployrctl logs`.
pub async fn run(client: &Client, matches: &ArgMatches) -> Result<(), Failure> {
    let id = matches
        .get_one::<String>("id")
        .ok_or_else(|| Failure::Input("DEPLOYMENT_ID is required".into()))?;
    let follow = matches.get_flag("follow");
    connect::require_token(client)?;
    let mut stream = client
        .log_stream(id.as_str())
        .resume(Reconnect::default())
        // Told by the library when, and only when, a dropped stream is
        // reopened; stdout keeps the log's lines alone.
        .on_reconnect(|r| {
            eprintln!(
                "the log stream dropped; reconnecting (attempt {} of {})",
                r.attempt, r.max_attempts
            )
        })
        .open()
        .await?;
    let mut out = io::stdout().lock();
    loop {
        let next = if follow {
            stream.next().await
        } else {
            match tokio::time::timeout(QUIET, stream.next()).await {
                Ok(next) => next,
                Err(_) => break,
            }
        };
        match next {
            None | Some(Ok(LogEvent::Done(_))) => break,
            Some(Ok(LogEvent::Line(line))) => {
                // A reader that went away (`| head`) ends the command quietly.
                if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                    break;
                }
            }
            Some(Ok(_)) => {}
            Some(Err(error)) => return Err(error.into()),
        }
    }
    Ok(())
}
